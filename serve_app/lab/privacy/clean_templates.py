"""Clean prompt templates, by form: the hard negatives.

Owns prompts that look sensitive to a careless detector and are not: order
and ticket numbers, times and room numbers, network questions with no host,
medical and salary questions about nobody, public figures, code constants
and placeholders, long numbers in maths, versions, dates of events,
password questions, names next to harmless numbers. Slots as in
`sensitive_templates.py`; `{num}`-style slots are filled with harmless
numbers by `corpus.py`.
"""

from __future__ import annotations

CLEAN: dict[str, list[str]] = {
    "order_number": [
        "Order #{order} has not shipped yet. What should I do?",
        "Where is my package? The order number is {order}.",
        "Ticket {order} was closed without a reply; reopen it politely.",
        "Invoice INV-{year}-{small} is overdue by 10 days. Draft a friendly reminder.",
        "My return RMA-{order} was approved; how long does the refund take?",
        "Tracking says parcel {order} is in customs. Explain what that means.",
    ],
    "time_room": [
        "The meeting is at {time} in room {room}.",
        "Move the stand-up to {time}, room {room}, and tell the team.",
        "Gate B{room_small} closes at {time}; will I make it from terminal 2?",
        "The train leaves platform {room_small} at {time}. How long to walk from the hotel?",
        "Book seat {room_small}C on the {time} flight if it's available.",
    ],
    "network_question": [
        "What are IPv4 private address ranges?",
        "Explain the CIDR block 10.0.0.0/8 and how many hosts it holds.",
        "What does 127.0.0.1 mean and why is it called localhost?",
        "Is 8.8.8.8 still Google's public DNS resolver?",
        "What's the difference between 255.255.255.0 and a /24 netmask?",
        "How do I find my IP address on macOS?",
    ],
    "medical_question": [
        "What are the early symptoms of {condition_general}?",
        "How does {medication_general} work and what are common side effects?",
        "Is HIV curable today? Summarise the research.",
        "Explain stage 3 pancreatic cancer survival statistics in plain language.",
        "What lifestyle changes help with type 2 diabetes?",
        "My doctor mentioned a biopsy. What does the procedure involve in general?",
        "What is the typical dose range of metformin for adults?",
    ],
    "salary_question": [
        "What is the average salary of a {occupation} in {city}?",
        "Is {salary_general} a good salary in Berlin for a software engineer?",
        "How do I negotiate a raise from $80k to $95k?",
        "What's the median household income in the US in {year}?",
        "Write a job ad for a data analyst, salary range $70,000-$90,000.",
    ],
    "public_figure": [
        "Summarise Barack Obama's 2009 inaugural address.",
        "Who was Marie Curie and what did she discover?",
        "What did Steve Jobs say in his 2005 Stanford commencement speech?",
        "Write a short biography of Angela Merkel.",
        "Compare the leadership styles of Winston Churchill and Franklin D. Roosevelt.",
        "How did Stephen Hawking communicate after his illness progressed?",
        "Which films did Meryl Streep win Oscars for?",
    ],
    "code_constants": [
        "Refactor this:\nMAX_RETRIES = 3\nTIMEOUT_MS = 30000\nBUFFER_SIZE = 4096",
        "Why is this slow?\nfor i in range(1000000):\n    total += i * 2654435761 % 4294967296",
        "password = os.environ[\"DB_PASSWORD\"]\n# how do I make this fail fast when it is missing?",
        "client = OpenAI(api_key=\"YOUR_API_KEY\") # replace with your key - explain this line",
        "What does this hash mean? d41d8cd98f00b204e9800998ecf8427e",
        "Generate a UUID like 123e4567-e89b-12d3-a456-426614174000 in Python.",
        "const MAX_TOKENS = 4096; const TEMPERATURE = 0.7; // tune these",
        "SELECT * FROM orders WHERE id = {order} AND status = 'open';",
        "token = get_token()\nheaders = dict(Authorization=\"Bearer \" + token)  # is this safe?",
    ],
    "math_long_numbers": [
        "What is {big} * {big2}?",
        "Is {big} divisible by 7?",
        "Sum the digits of {big}.",
        "Convert {big} to hexadecimal.",
        "Find the remainder when {big} is divided by 97.",
        "Round {big} to three significant figures.",
    ],
    "version_string": [
        "Upgrade to v{ver} first, then run the migration.",
        "What changed in Python 3.{minor}.{patch}?",
        "Windows build 10.0.19041.{patch} fails to install the update.",
        "Kubernetes 1.{minor}.{patch} deprecates which APIs?",
        "Pin numpy to 1.26.{patch} in requirements.txt and explain why.",
    ],
    "event_date": [
        "The Berlin Wall fell on 9 November 1989. Summarise why.",
        "Albert Einstein was born on 14 March 1879 in Ulm. Tell me about his childhood.",
        "The conference runs from {day} to {day2} June {year}; draft the agenda.",
        "What happened on 20 July 1969?",
        "Plan a sprint from {iso_date} to the end of the month.",
        "Queen Elizabeth II was born on 21 April 1926. What were her early years like?",
    ],
    "password_question": [
        "How do I reset my password if I forgot it?",
        "What makes a password strong?",
        "Should I use a password manager? Compare the popular ones.",
        "Explain what a JWT token is and how to validate one.",
        "What is an API key and how often should I rotate it?",
        "My password is too short according to the form. What are typical rules?",
        "What is a PIN and why is it 4 digits?",
    ],
    "names_harmless": [
        "Ask {first} to review pull request #{small} before Friday.",
        "Schedule a call with {first} at {time} about the {year} roadmap.",
        "Write a birthday poem for my friend {first}.",
        "Remind {first} that the team offsite costs around $3,000 in total.",
        "{name} won the chess tournament with 7 points out of 9. Write a news blurb.",
        "Thank {first} for the presentation on quarterly goals.",
    ],
    "spelled_numbers_clean": [
        "I have three kids and two dogs; suggest a car.",
        "Count from one to ten in French.",
        "The recipe needs two cups of flour, one egg and three spoons of sugar.",
        "Is nine hundred ninety nine a prime number?",
    ],
    "finance_question": [
        "What's a good credit score in the US?",
        "How do mortgage rates work when the base rate is {rate}%?",
        "How do I close a savings account I no longer use?",
        "Explain what an IBAN is and how it differs from a SWIFT code.",
        "What is the difference between a debit and a credit card?",
    ],
    "general": [
        "Write a haiku about autumn in {city}.",
        "Plan a 3-day trip to {city} on a budget of $800.",
        "Translate 'where is the train station' into Italian.",
        "Summarise the plot of Pride and Prejudice in 100 words.",
        "Give me a 20-minute workout with no equipment.",
    ],
}
