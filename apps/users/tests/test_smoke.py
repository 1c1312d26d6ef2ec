from conftest import error_codes


def test_register_login_verify(api, last_email_code, last_sms_code, db):
    response = api.post("/api/users/register/", {
        "email": "Amani@Example.com", "password": "correct horse battery",
        "first_name": "Amani", "last_name": "Wanjiru", "phone": "0712 345 678"})
    assert response.status_code == 201, response.json()
    assert response.json()["phone"] == "+254712345678"
    login = api.post("/api/users/login/", {"phone": "+254-712-345-678",
                                           "password": "correct horse battery"})
    assert login.status_code == 200
    api.credentials(HTTP_AUTHORIZATION="Bearer " + login.json()["access"])
    bad = api.post("/api/users/verify/email/", {"code": "000000"})
    assert error_codes(bad) == [("invalid_code", "code")]
    ok = api.post("/api/users/verify/email/", {"code": last_email_code("amani@example.com")})
    assert ok.status_code == 200 and ok.json()["email_verified"] is True
    ok = api.post("/api/users/verify/phone/", {"code": last_sms_code("+254712345678")})
    assert ok.status_code == 200 and ok.json()["phone_verified"] is True
