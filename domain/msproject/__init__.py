"""Microsoft Project plans: what a plan file holds (`plan`), and how it maps onto projects,
folders, tasks and subtasks (`mapping`). The file format itself (MSPDI XML) is read and
written in `commands.msproject`."""
