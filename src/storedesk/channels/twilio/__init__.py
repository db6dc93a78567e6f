"""Twilio channels: SMS (Messages API) and voice (call events, voicemail)."""
