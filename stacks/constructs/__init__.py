"""The pieces the stacks are built from, one concern each.

A piece adds its resources to the stack it is given (a function, or a plain class that keeps
what its stack needs), not to a Construct of its own: a resource's construct path, and with it
its logical id, stays what it was when the stack created it directly, so moving code here never
makes CloudFormation replace a deployed resource. The exception is AlarmsAndWidgets, whose
alarms have lived under their section's Construct from the start.
"""
