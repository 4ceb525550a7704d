"""Realistic prompts of known size for the overhead benchmark.

Sizes are counted in MiniLM tokens (the classifier's tokenizer), over the
text the router classifies for a one-message chat: "user: <content>".
"""

from __future__ import annotations

import re

# About 20 tokens each, mixing the four tiers' kinds of work.
SHORT = [
    "What is the capital of Australia, and roughly how many people live in that city today?",
    "Rewrite this sentence to sound friendlier: 'Your invoice is overdue, pay it immediately or else.'",
    "Convert 72 degrees Fahrenheit to Celsius and tell me whether that is a warm day.",
    "Give me three synonyms for 'important' that would fit in a formal business letter.",
    "A shirt costs $40 and is discounted by 15 percent. What is the final sale price?",
    "Write a Python function that returns the second largest number in a list of integers.",
    "If a train leaves at 9:40 and the trip takes 2 hours 35 minutes, when does it arrive?",
    "Explain in two sentences why the sky looks red at sunset but blue at noon.",
    "Write a SQL query that lists the ten customers with the highest total order value.",
    "Draft a short, warm thank-you note to a colleague who covered my shift last weekend.",
    "Summarise the main causes of the French Revolution in one short paragraph for a student.",
    "Write a four-line poem about autumn leaves falling on a quiet city street at night.",
    "Prove that the square root of two is irrational, step by step, with each step justified.",
    "Plan a three-day itinerary for Lisbon on a small budget, with one museum per day.",
    "What are the common side effects of ibuprofen, and when should someone avoid taking it?",
    "How does compound interest work on a savings account that pays 4 percent per year?",
    "Find all integer solutions of x squared minus y squared equals 45, and explain the method.",
    "Design a database schema for a library that tracks books, members, loans and late fees.",
    "Is a verbal agreement to sell a used car legally binding, or does it need a written contract?",
    "Turn this list into a table with two columns: apples 3, pears 5, plums 2, figs 7.",
    "Which is more energy efficient for boiling water: an electric kettle or a gas stove?",
    "Debug this: my JavaScript fetch call returns a pending promise instead of the JSON data.",
    "Write a short product description for a stainless steel water bottle that keeps drinks cold.",
    "Who painted The Night Watch, and in which museum can visitors see it today?",
]

# A realistic long input: a document the user pastes, with an instruction.
_INSTRUCTION = (
    "Please review the following excerpt from our vendor agreement and incident report. "
    "Summarise the obligations of each party, point out any clause that looks risky for us, "
    "and suggest concrete wording changes.\n\n"
)
_DOCUMENT = """\
1. Services. The Provider shall host, operate and maintain the Customer's order management platform, \
including the web storefront, the payment gateway integration and the nightly inventory synchronisation \
with the Customer's warehouse systems. The Provider shall perform routine maintenance only during the \
maintenance window of Sunday 01:00 to 05:00 Central European Time, and shall give at least seven days' \
written notice of any maintenance expected to cause more than fifteen minutes of downtime.
2. Service levels. The Provider shall make the platform available 99.9 percent of each calendar month, \
measured by an external monitor that requests the storefront home page every minute. Scheduled maintenance \
announced in accordance with clause 1 does not count as downtime. If availability falls below the target, \
the Customer is entitled to a service credit of five percent of the monthly fee for each full 0.1 percent \
below the target, up to a maximum of thirty percent of the monthly fee. Service credits are the Customer's \
sole and exclusive remedy for any failure to meet the service levels.
3. Data protection. The Provider shall process personal data of the Customer's shoppers only on documented \
instructions from the Customer and only for the purpose of providing the services. The Provider may engage \
sub-processors without prior notice, provided that they are bound by obligations no less protective than \
those in this agreement. The Provider shall notify the Customer of a personal data breach without undue \
delay, and in any case within seventy-two hours of becoming aware of it.
4. Liability. Except for breaches of clause 3, neither party's total liability under this agreement shall \
exceed the fees paid by the Customer in the three months preceding the event giving rise to the claim. \
Neither party shall be liable for loss of profit, loss of revenue or any indirect or consequential loss.
5. Term and termination. This agreement runs for an initial term of thirty-six months and renews \
automatically for further periods of twelve months unless either party gives notice of termination at \
least one hundred and eighty days before the end of the current term. The Customer may terminate for \
convenience only on payment of the fees for the remainder of the current term.
Incident report, 14 March. At 18:42 the nightly inventory synchronisation started four hours early after a \
configuration change by the Provider. The job locked the product table for fifty-three minutes during peak \
evening traffic. Customers could browse the storefront but every attempt to add an item to the basket \
failed with a generic error page. The Provider's on-call engineer was paged at 18:51 but acknowledged the \
alert only at 19:20, and the job was stopped at 19:35. The external monitor did not record any downtime, \
because the home page itself kept loading normally throughout the incident. Our own analytics show that \
roughly 2,300 baskets were abandoned in that period, against about 300 on a normal Tuesday evening. The \
Provider has offered a goodwill credit of two percent of the monthly fee and has refused any further \
compensation, citing the sole-remedy language in clause 2 and the liability cap in clause 4. The Provider \
also confirmed that it moved the synchronisation job to a new sub-processor in February without telling us, \
and that this sub-processor stores nightly database snapshots, including shopper names, addresses and order \
histories, in a data centre outside the European Economic Area.
6. Governing law. This agreement is governed by the laws of Ireland, and the courts of Dublin have exclusive \
jurisdiction over any dispute arising out of or in connection with it.
"""


def classified_text(content: str) -> str:
    """What the router classifies for a one-message chat (ChatRequest.prompt_text)."""
    return f"user: {content}"


def chat_body(content: str) -> dict:
    return {"model": "auto", "messages": [{"role": "user", "content": content}]}


class TokenCounter:
    """MiniLM token counts (content tokens, no [CLS]/[SEP]) with the classifier's tokenizer."""

    def __init__(self):
        from transformers import AutoTokenizer

        from serve_app.classifier.tokens import default_model_path

        self._tok = AutoTokenizer.from_pretrained(default_model_path(), local_files_only=True)

    def __call__(self, text: str) -> int:
        return len(self._tok(text, add_special_tokens=False, verbose=False)["input_ids"])


def long_prompt(target_tokens: int, count: TokenCounter, start: int = 0) -> str:
    """The instruction plus whole sentences of the document, up to about `target_tokens`.

    Sentences are added while the total stays closest to the target, so the
    result ends on a sentence boundary, as pasted text usually does. `start`
    picks the first sentence (the document wraps around).
    """
    sentences = re.split(r"(?<=[.!?])\s+", _DOCUMENT.strip())
    sentences = sentences[start % len(sentences):] + sentences[:start % len(sentences)]
    text = _INSTRUCTION.rstrip()
    for sentence in sentences:
        candidate = f"{text} {sentence}"
        if count(classified_text(candidate)) > target_tokens:
            now, then = count(classified_text(text)), count(classified_text(candidate))
            return candidate if then - target_tokens < target_tokens - now else text
        text = candidate
    return text


def long_prompts(target_tokens: int, count: TokenCounter, n: int = 8) -> list[str]:
    """`n` different prompts of about `target_tokens`, each from another part of the document."""
    step = 35 // n or 1  # the document has 35 sentences
    return [long_prompt(target_tokens, count, start=i * step) for i in range(n)]
