"""Driving the contracts from brownie (tests, dev scripts, the simulator): deployment, agreements, series, the oracle,
forks."""
