package web

import "github.com/gin-gonic/gin"

func (s *Server) mountAccounts(r *gin.RouterGroup) {}
