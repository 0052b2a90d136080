"""The group view: a holding company and its subsidiaries summed, intercompany accounts eliminated
by the mapping the accountant confirmed."""
