from serve_app.config.loader import load_config, parse_config
from serve_app.config.schema import DEFAULT_DOMAINS, TIERS, ModelConfig, RouterConfig

__all__ = ["load_config", "parse_config", "RouterConfig", "ModelConfig", "TIERS", "DEFAULT_DOMAINS"]
