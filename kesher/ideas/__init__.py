"""The ideas board (co-creation), challenges and beta programs (issue 16)."""
