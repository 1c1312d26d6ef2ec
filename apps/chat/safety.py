"""Safety notices on messages: contact details and pay-outside-the-platform phrases.

`warning_for(body)` runs once, when a message is stored (services.store_message), and its
answer is kept in `Message.warning`; REST and socket payloads show that column. Contact details
are found with the ad moderation's own patterns (phone numbers once calendar dates are masked,
email addresses, links), so chat and ads agree on what a phone number is. A payment phrase wins
over contact details: "send money first to 0712 345 678" is the advance-fee scam the notice is
for. The notice is advice for the client to show; the message is stored and delivered as sent.
"""

from __future__ import annotations

import re

from apps.chat.models import MessageWarning
from apps.moderation.checks import DATE, EMAIL, LINK, PHONE

# English and Swahili phrases of the "pay before you see it" scams. A phrase matches whatever
# the case and spacing between its words ("Tuma  pesa", "SEND MONEY\nFIRST"), as whole words.
PAYMENT_PHRASES = (
    "pay via paybill",
    "pay through paybill",
    "paybill number",
    "till number",
    "send money first",
    "send the money first",
    "send me the money",
    "pay in advance",
    "advance payment",
    "deposit first",
    "pay a deposit",
    "pay the deposit",
    "western union",
    "moneygram",
    "lipa kwa",
    "lipa mbele",
    "tuma pesa",
    "tuma deposit",
    "tuma hela",
)
PAYMENT = re.compile(
    r"(?<!\w)(?:"
    + "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in PAYMENT_PHRASES)
    + r")(?!\w)",
    re.IGNORECASE,
)


def has_contact_details(text: str) -> bool:
    return bool(PHONE.search(DATE.sub(" ", text)) or EMAIL.search(text) or LINK.search(text))


def warning_for(body: str) -> str | None:
    """The notice a message body deserves: a MessageWarning value, or None."""
    if PAYMENT.search(body):
        return MessageWarning.OFF_PLATFORM_PAYMENT.value
    if has_contact_details(body):
        return MessageWarning.CONTACT_DETAILS.value
    return None
