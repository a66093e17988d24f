"""Microsoft Project plans: the MSPDI XML format, the import of a plan into a project and the
export of a project as a plan."""
