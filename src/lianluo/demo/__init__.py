"""The demo tenant: a realistic contact center to explore Lianluo with (`lianluo demo`)."""

from lianluo.demo.seed import DEMO_SLUG, DemoInfo, DemoLogin, seed_demo

__all__ = ["DEMO_SLUG", "DemoInfo", "DemoLogin", "seed_demo"]
