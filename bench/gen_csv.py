#!/usr/bin/env python3
"""Writes a varied scorecard CSV of N workflows to stdout, the same for the same N.

    python3 bench/gen_csv.py 1000 > workflows.csv

Tiers, yes/no answers, owners, metrics, next steps and spend all vary from row to row
(spend from 0 to about 500,000 with cents), so every verdict and flag occurs.
"""
import csv
import random
import sys

HEADER = ["name", "team", "owner", "metric", "next_step", "current_tier",
          "monthly_spend", "business_case", "stakes", "ambiguity", "defended"]
TEAMS = ["Claims", "Underwriting", "Service", "Finance", "Legal", "HR", "Sales",
         "Marketing", "Procurement", "IT", "Risk", "Operations", "Fraud"]
OWNERS = ["Priya Shah", "Marcus Lee", "Dana Ortiz", "Sam Reyes", "Ada Byron",
          "Lin Wei", "Omar Haddad", "Kofi Mensah", "Eva Novak", "Jon Berg"]
METRICS = ["Minutes per claim triaged", "Loss ratio on referred cases",
           "First-contact resolution", "Cost per ticket", "Hours saved per week",
           "Contracts reviewed per week"]
STEPS = ["Move to the in-house small model", "Benchmark a small model on 200 cases",
         "Replace with rules", "Extend to the marine line", "Agree a kill date"]
TASKS = ["summaries", "drafts", "triage", "extraction", "classification", "replies",
         "translations", "memos", "explanations", "routing"]


def rows(n):
    rng = random.Random(20260509 + n)
    for i in range(n):
        yn = lambda p: "yes" if rng.random() < p else "no"
        spend = 0 if rng.random() < 0.05 else rng.randint(0, 50_000_000)  # cents
        yield [
            f"{rng.choice(TEAMS)} {rng.choice(TASKS)} {i:05d}",
            rng.choice(TEAMS),
            "" if rng.random() < 0.2 else rng.choice(OWNERS),
            "" if rng.random() < 0.15 else rng.choice(METRICS),
            "" if rng.random() < 0.25 else rng.choice(STEPS),
            rng.choice(["frontier", "frontier", "small", "none"]),
            f"{spend // 100}.{spend % 100:02d}",
            yn(0.8), yn(0.5), yn(0.4), yn(0.7),
        ]


def main():
    n = int(sys.argv[1])
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(HEADER)
    out.writerows(rows(n))


if __name__ == "__main__":
    main()
