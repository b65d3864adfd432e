"""The week's plan, pure: patients to sessions, staff and rooms (issue 19). No Django here.

Entry points: plan.plan_week, check.check_solution, jsonio (the JSON format).
"""
