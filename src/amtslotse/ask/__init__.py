"""Ask: the citizen-chat pipeline (guard -> retrieve -> compose -> answer)."""
