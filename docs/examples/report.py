import argparse

import ao

parser = argparse.ArgumentParser()
parser.add_argument("--prune", action="store_true")
arguments = parser.parse_args()

if hasattr(ao, "ns"):
    print("numeric suite available")
observer = ao.quantization.observer
if arguments.prune:
    from ao import pruning  # noqa: F401 - the import is what the example traces
