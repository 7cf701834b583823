"""The teaching commands: graphs, step-by-step rules, costs, checks of an answer, demos."""
