"""The command framework: the Command class and its option groups, how a change command runs
(one item or many rows), prompts, and the API clients built for an Environment. Commands sit
above it; nothing here knows a particular command.
"""
