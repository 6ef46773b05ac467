"""The demo product: a simulated SaaS product's data in every table of the data model.

``generate()`` returns a :class:`DemoProduct` whose tables exercise every KPI in the
catalog, with planted :class:`Incident` s for alerts and root-cause analysis to find.
"""

from northstar.demo.generator import generate
from northstar.demo.model import DemoProduct, Incident

__all__ = ["DemoProduct", "Incident", "generate"]
