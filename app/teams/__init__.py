"""Teams of a round: creation, invite codes, membership."""
