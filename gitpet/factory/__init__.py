"""The user-facing class manager, factories, dumping, containers and plugins."""
