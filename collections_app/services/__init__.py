"""Collections' writes: `assignment` (round-robin for new cases, reassignment by a manager)."""
