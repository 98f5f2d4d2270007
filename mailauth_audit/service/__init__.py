"""`serve`: the HTTP API over the facade and the history store (issue 14, single machine).

Jobs run in the server's own event loop through `asyncapi.audit_batch`; their reports go
to the history store, which is also where results are read back from. The distributed
part (workers on other machines, schedules) is not here yet.
"""
