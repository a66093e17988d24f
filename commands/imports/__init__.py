"""Imports: files whose rows become many aggregates, all or nothing.

Every import has the same shape, whatever it imports (timesheets now; tickets, tasks or an
MS Project plan later): read the file (`csv_files` for CSV), check every row against the
data and report every problem by row and column before anything is written, then hand the
rows to `staging.run_import`, which writes them in bounded batches that stay staged
(invisible) under an `Import` aggregate and shows them all in one final write.
"""
