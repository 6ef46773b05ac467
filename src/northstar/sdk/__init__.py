"""The Python SDK for sending events to a Northstar server (docs/python-sdk.md)."""

from northstar.sdk.client import Client, DeliveryError

__all__ = ["Client", "DeliveryError"]
