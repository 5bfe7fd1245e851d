"""Write use cases of push provisioning."""
