"""Citizen channels: one module per channel, each turning its payloads into
``IncomingMessage``s for intake and sending replies back (``base.ChannelAdapter``)."""
