"""Payments raise no errors of their own: a refused payment is the reservation's (not found, expired,
not pending), the wallet's (insufficient points) or the queue token's."""
