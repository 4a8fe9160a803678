"""Referrals: how a case starts (a public form, the API, the coordinator's inbox)."""
