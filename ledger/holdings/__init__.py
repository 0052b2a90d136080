"""Holdings: the lots the firm holds, what its sales took from them, and the pages that show them."""
