from django.urls import path

from apps.payments.api import views

urlpatterns = [
    path("plans/", views.PlansView.as_view(), name="plans"),
    path("", views.PaymentListView.as_view(), name="payments"),
    path("promotions/", views.SellerPromotionsView.as_view(), name="seller-promotions"),
    path("callback/<str:provider>/", views.CallbackView.as_view(), name="payment-callback"),
    path("<str:payment_id>/", views.PaymentDetailView.as_view(), name="payment-detail"),
]
