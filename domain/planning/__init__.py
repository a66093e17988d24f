"""Planning: the working-day calendar, constraints and dependency links, the scheduler and
critical path, and what a task plans (dates, progress, dependencies, subtasks, recurrence).

The same capability is `api/routers/planning.py` on the HTTP side and the Gantt, status
board and calendar views on the read side.
"""
