"""The core: options, the problem, one comparison and its verdict, and the bounds on its work."""
