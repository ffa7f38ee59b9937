"""The Bias Bounty engine: a pure library (no web, no database); see engine/README.md."""
