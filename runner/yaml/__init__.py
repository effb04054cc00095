"""YAML decoding into plain values, with a position for every key and value on demand.

Most spec files are read by the fast path (`runner.yaml.fast`: plain block YAML, line by
line); everything else, and the positions of nodes, come from libyaml's events in
`runner.yaml.events`, the one module that imports ruamel.yaml, loaded only then.
`runner.yaml.reader.decode` decodes a text. The package itself imports nothing: every
finding imports `runner.yaml.span`, which then costs no more than itself (issue 11).
"""
