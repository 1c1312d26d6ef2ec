from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Buyer-seller messaging; named `chat` to avoid django.contrib.messages.

    URLs stay /api/messages/.
    """

    name = "apps.chat"
    label = "chat"
