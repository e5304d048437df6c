"""Cross-region scope (seed 004): the grammar, the routing data, the routers' patterns."""
