"""Accounts: registration with e-mailed confirmation, sign-in by cookie or bearer token, resets.

fastapi-users does the parts that must not be hand-written (Argon2 hashing through pwdlib, signed
confirmation and reset tokens, session tokens); this package wires it to the settings, the
database and the mail server, and keeps the HTTP contract ours (see ``routes/auth.py``).
"""
