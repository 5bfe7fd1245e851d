"""Small shared kernel: card-number masking, logging, middleware and the state-machine base for models."""
