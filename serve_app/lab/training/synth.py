"""Generated requests for two gaps in the licence-clean data: `code_synth`
and `math_synth`.

Code: the public sources have few code prompts (MMLU-Pro computer science and
Arena-Hard coding: ~600 rows), and a first model called "Write a python
function to reverse a list" math. Math: the only proof-style prompts are
Arena-Hard's; a model trained without these called "Prove that the
derivative of sin(x) is cos(x)" slm/general, because every short question it
had seen was an NQ lookup. Rows come from hand-written phrasings x topics,
grouped by phrasing like every other source's groups; with ten-odd phrasings
and a 10% split, none reached val in the shipped build, so these rows teach
but are not measured there. Being written by us, they make held-out numbers
on similar prompts (MBPP) optimistic: the model card says so.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from .dataset import make_row

PHRASINGS = [
    "Write a {lang} function to {task}.",
    "How do I {task} in {lang}?",
    "Can you show me {lang} code that will {task}?",
    "I need a {lang} snippet to {task}.",
    "In {lang}, what's the cleanest way to {task}?",
    "Give me an idiomatic {lang} solution to {task}.",
    "My {lang} code breaks when I try to {task}. How should it be done?",
    "Please implement this in {lang}: {task}.",
    "Using {lang}, {task}, and explain the approach briefly.",
    "What is a good {lang} implementation to {task}?",
]
LANGS = ["Python", "JavaScript", "TypeScript", "Java", "C++", "Go", "Rust", "C#", "Ruby", "Kotlin"]
SIMPLE = [
    "reverse a string", "check whether a word is a palindrome", "count the vowels in a sentence",
    "find the largest number in a list", "remove duplicates from a list while keeping order",
    "merge two sorted arrays", "read a CSV file and sum one column", "parse a JSON string into a map",
    "compute the factorial of n", "return the first n Fibonacci numbers", "sort a dictionary by its values",
    "flatten a nested list", "convert Celsius to Fahrenheit", "find the common elements of two lists",
    "capitalize every word in a string", "count how often each word appears in a text",
    "check whether a number is prime", "do a binary search in a sorted array", "rotate an array by k positions",
    "validate that a string looks like an email address with a regex", "split a list into chunks of size n",
    "get the current date formatted as YYYY-MM-DD", "strip whitespace from every line of a file",
    "find the second smallest element of an array", "check if two strings are anagrams",
]
HARD = [
    "implement an LRU cache with O(1) get and put", "design a thread-safe bounded blocking queue",
    "implement Dijkstra's shortest path with a priority queue", "write a token-bucket rate limiter shared by many servers",
    "implement a B-tree with insertion and deletion", "write a recursive-descent parser for arithmetic with precedence",
    "turn this O(n^2) pairwise comparison into an O(n log n) algorithm", "implement Raft leader election",
    "write an async web crawler with bounded concurrency and retries", "implement a lock-free single-producer ring buffer",
    "build a trie-based autocomplete that ranks by frequency", "solve the travelling salesman problem exactly for 15 cities with bitmask DP",
]


def load_code_synth(root, per_phrasing: int = 60, seed: int = 7) -> Iterator[dict]:
    """`root` is unused (nothing read from disk); kept for the loader signature."""
    rng = random.Random(seed)
    for p_id, phrasing in enumerate(PHRASINGS):
        for k in range(per_phrasing):
            hard = k % 4 == 0  # one in four is a hard (lrm) task
            task = rng.choice(HARD if hard else SIMPLE)
            tier = "lrm" if hard else "srm"
            text = phrasing.format(lang=rng.choice(LANGS), task=task)
            yield make_row("code_synth", f"p{p_id}-{k}", text, f"phrasing-{p_id}",
                           f"code_synth:phrasing x language x {'hard' if hard else 'simple'} task->{tier}/code",
                           tier=tier, domain="code", sensitive=False, jailbreak=False)


PROOF_PHRASINGS = [
    "Prove that {stmt}.", "Show rigorously that {stmt}.", "Give a complete proof that {stmt}.",
    "Can you prove that {stmt}? Please justify every step.", "Derive carefully why {stmt}.",
    "I need a formal proof that {stmt}.", "Write a step-by-step proof that {stmt}.", "Prove or disprove: {stmt}.",
]
STATEMENTS = [
    "the derivative of sin(x) is cos(x) from the limit definition", "the square root of 3 is irrational",
    "there are infinitely many primes of the form 4k+3", "every continuous function on [a, b] is bounded",
    "the harmonic series diverges", "the sum of the first n cubes equals the square of the n-th triangular number",
    "a group of prime order is cyclic", "the integral of 1/x^2 from 1 to infinity converges to 1",
    "every bounded monotone sequence of reals converges", "the eigenvalues of a real symmetric matrix are real",
    "n^5 - n is divisible by 30 for every integer n", "the composition of two injective functions is injective",
    "a tree with n vertices has n - 1 edges", "e is irrational", "the set of rational numbers is countable",
    "the real numbers are uncountable", "the AM-GM inequality holds for n positive reals",
    "every planar graph is 6-colourable", "the Fibonacci numbers satisfy gcd(F_m, F_n) = F_gcd(m, n)",
    "the limit of (1 + 1/n)^n exists", "a continuous bijection from a compact space to a Hausdorff space is a homeomorphism",
]
ARITH_PHRASINGS = ["What is {a} {op} {b}?", "Quick one: {a} {op} {b} = ?", "How much is {a} {op} {b}?",
                   "Compute {a} {op} {b}.", "what's {a} {op} {b}"]
OPS = ["plus", "minus", "times", "+", "-", "*"]


def load_math_synth(root, per_phrasing: int = 40, seed: int = 11) -> Iterator[dict]:
    """Proof requests (lrm/math) and one-step arithmetic (slm/math). `root` unused."""
    rng = random.Random(seed)
    for p_id, phrasing in enumerate(PROOF_PHRASINGS):
        for k in range(per_phrasing):
            text = phrasing.format(stmt=rng.choice(STATEMENTS))
            yield make_row("math_synth", f"proof{p_id}-{k}", text, f"proof-phrasing-{p_id}",
                           "math_synth:proof phrasing x statement->lrm/math",
                           tier="lrm", domain="math", sensitive=False, jailbreak=False)
    for p_id, phrasing in enumerate(ARITH_PHRASINGS):
        for k in range(per_phrasing):
            text = phrasing.format(a=rng.randrange(2, 100), op=rng.choice(OPS), b=rng.randrange(2, 100))
            yield make_row("math_synth", f"arith{p_id}-{k}", text, f"arith-phrasing-{p_id}",
                           "math_synth:one-step arithmetic->slm/math",
                           tier="slm", domain="math", sensitive=False, jailbreak=False)
