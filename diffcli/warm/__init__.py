"""Warm sessions: diffcli in a process that stays up (an interactive shell, a Jupyter
kernel), so each question pays for its work and not for importing torch and SymPy."""
