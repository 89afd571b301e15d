"""Region-aware API: routes reads to the nearest fresh replica and writes to the primary."""
