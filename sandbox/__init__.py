"""A stand-in for Mastercard MDES Token Connect and the token requestors behind it, for development and tests.

It runs as its own process on its own origin (`python -m sandbox`); portal code never imports it. See README.md.
"""
