"""Behavioural analyses: retention, funnels, lifecycle, stickiness, sessions, feature adoption.

Built on the metric layer's expressions (``metrics.context``); every analysis compiles to
Ibis expressions (window functions, not Python loops over users).
"""
