"""The teaching commands: step-by-step rules, costs, checks of an answer, demos (the
computational graph is torch's own: methods/autograd/graph.py)."""
