"""Authentication and authorisation: credential scopes and short-lived signed tokens."""
