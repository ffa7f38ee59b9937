"""Accounts, roles, sign-in, access tokens and API keys."""
