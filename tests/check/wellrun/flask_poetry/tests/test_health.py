from ledger import create_app


def test_healthz():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "DEBUG": True})
    assert app.test_client().get("/healthz").status_code == 200
