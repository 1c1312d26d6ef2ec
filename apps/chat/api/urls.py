from django.urls import path

from apps.chat.api import views

urlpatterns = [
    path("conversations/", views.ConversationListView.as_view(), name="conversations"),
    path("unread-count/", views.UnreadCountView.as_view(), name="unread-count"),
    path("ws-ticket/", views.TicketView.as_view(), name="ws-ticket"),
    path(
        "<str:conversation_id>/",
        views.ConversationMessagesView.as_view(),
        name="conversation-messages",
    ),
    path("<str:conversation_id>/read/", views.MarkReadView.as_view(), name="conversation-read"),
    path(
        "<str:conversation_id>/archive/", views.ArchiveView.as_view(), name="conversation-archive"
    ),
    path(
        "<str:conversation_id>/unarchive/",
        views.UnarchiveView.as_view(),
        name="conversation-unarchive",
    ),
    path("<str:conversation_id>/mute/", views.MuteView.as_view(), name="conversation-mute"),
    path("<str:conversation_id>/unmute/", views.UnmuteView.as_view(), name="conversation-unmute"),
]
