"""MDES Token Connect: the portal's only way to the card network (client, typed messages, errors, redirect)."""
