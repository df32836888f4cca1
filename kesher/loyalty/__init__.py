"""The loyalty club: points ledger in lots, earning rules, rewards and coupons."""
