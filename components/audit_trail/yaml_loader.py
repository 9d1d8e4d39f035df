"""The fastest safe YAML loader at hand: libyaml's when PyYAML was built with it (its wheels are).

It parses the project file and the Sigma rules about ten times faster than the pure-Python loader.
"""

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
