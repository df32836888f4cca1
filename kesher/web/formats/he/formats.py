"""Hebrew number formats as Israelis write them: Django's Hebrew locale leaves thousands ungrouped
(1200); here 1,200, with the point for decimals. Everything else comes from Django's Hebrew formats."""

THOUSAND_SEPARATOR = ","
DECIMAL_SEPARATOR = "."
NUMBER_GROUPING = 3
