"""This project's scripted pysc2 agents (demonstrators), written like `pysc2.agents`."""
