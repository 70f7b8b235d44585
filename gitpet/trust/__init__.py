"""Which versions this machine vouches for, and the policy that decides what may load."""
